import pytest

from vendors.tests.helpers import application_form


@pytest.fixture
def submitted_application(buyer):
    """Li Lei's application for "Bamboo Crafts", waiting for review."""
    from vendors.services import vendor_application_submit

    return vendor_application_submit(applicant=buyer, **application_form())
