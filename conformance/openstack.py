"""Names OpenStack's clients agree on, read by the options (defaults, help) and the Keystone credentials alike."""

INTERFACES = ("public", "internal", "admin")  # the catalogue interfaces of an endpoint
DEFAULT_INTERFACE = "public"  # the one openstacksdk and the openstack CLI take when a cloud names none
