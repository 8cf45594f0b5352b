"""drf-spectacular description of the bureau credential scheme."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BureauCredentialScheme(OpenApiAuthenticationExtension):
    target_class = "integrations.bureau_api.authentication.BureauCredentialAuthentication"
    name = "BureauCredential"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "`Authorization: Bearer hyb_<prefix>_<secret>` — one credential per bureau system, "
            "created in the admin and shown once.",
        }
