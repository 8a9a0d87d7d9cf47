from tests.transparency.builders import (  # noqa: F401 (fixtures)
    admin_user,
    auditor,
    bandung_operator,
    bogor_operator,
    published,
    regions,
    staff_client,
    supervisor,
)
