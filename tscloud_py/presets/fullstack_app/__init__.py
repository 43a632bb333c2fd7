"""The fullstack-app preset's steps, one module per tier. Assembled by presets/fullstack_app.py."""
