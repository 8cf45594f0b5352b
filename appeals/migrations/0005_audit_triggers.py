"""PostgreSQL triggers: audit events can be neither updated nor deleted, checkpoints not updated.

After 0004 re-signed the existing events (a separate migration, so those UPDATEs commit before
the triggers exist). django-pgtrigger skips these operations on other databases.
"""

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("appeals", "0004_sign_existing_audit_events"),
    ]

    operations = [
        pgtrigger.migrations.AddTrigger(
            model_name="appealevent",
            trigger=pgtrigger.compiler.Trigger(
                name="audit_event_append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="109a14d595113adeb9d93ca248d3659126521562",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_audit_event_append_only_5cdd3",
                    table="appeals_appealevent",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="auditcheckpoint",
            trigger=pgtrigger.compiler.Trigger(
                name="audit_checkpoint_no_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update rows from % table', TG_TABLE_NAME;",
                    hash="2390229966c0679f729ad96013da219fb5ccb2e9",
                    operation="UPDATE",
                    pgid="pgtrigger_audit_checkpoint_no_update_cd701",
                    table="appeals_auditcheckpoint",
                    when="BEFORE",
                ),
            ),
        ),
    ]
