"""facilities' rules: rooms and 四统一, equipment and calibration, rapid tests, custody of confiscated goods."""
