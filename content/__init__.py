"""Evergreen's song library and everything that curates it.

`content` never imports `kiosk`; the kiosk uses the public functions here.
"""
