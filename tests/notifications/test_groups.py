import pytest

from notifications.groups import DISPATCH_GROUP, SUPERVISION_GROUP, appeal_group, bureau_group, parse_group, user_group


def test_group_names_follow_the_contract():
    assert bureau_group(5) == "bureau.5"
    assert appeal_group(12) == "appeal.12"
    assert user_group(7) == "user.7"
    assert (DISPATCH_GROUP, SUPERVISION_GROUP) == ("dispatch", "supervision")


@pytest.mark.parametrize(
    ("name", "parsed"),
    [
        ("bureau.5", ("bureau", 5)),
        ("appeal.12", ("appeal", 12)),
        ("user.3", ("user", 3)),
        ("dispatch", ("dispatch", None)),
        ("supervision", ("supervision", None)),
        ("bureau.0", None),
        ("bureau.5.x", None),
        ("bureau.-1", None),
        ("bureau.", None),
        ("admin", None),
        ("", None),
        ("bureau.5 ", None),
    ],
)
def test_parse_group_accepts_only_known_shapes(name, parsed):
    assert parse_group(name) == parsed
