"""The fault tests file appeals through the portal: they share its city fixture."""

from tests.appeals.portal.conftest import portal_city  # noqa: F401 - a fixture, used by name
