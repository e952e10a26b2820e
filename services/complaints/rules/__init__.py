"""The rule sets (YAML), a package so that they ship with the service."""
