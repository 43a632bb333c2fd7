"""Config tables, one module per preset area. The root is tscloud_py/config/schema.py."""
