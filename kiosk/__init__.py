"""The Evergreen kiosk: big buttons to a resident's music, at once and safely.

`python -m kiosk run` starts it; `press` and `status` talk to a running kiosk over its
control socket. The kiosk reads the library through `content` and never writes to it,
except play history, its own state, and marking files that cannot be played.
"""
