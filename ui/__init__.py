"""PySide6 windows, docks and widgets. Views show what services say and forward what users do."""
