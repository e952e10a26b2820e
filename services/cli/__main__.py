"""`python -m services.cli …`, the same as the installed `supervision` script."""

from services.cli.main import main

if __name__ == "__main__":
    main()
