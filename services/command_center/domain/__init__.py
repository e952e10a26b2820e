"""command_center's rules: offices and their jurisdiction, officers, the duty list, supervision tasks."""
