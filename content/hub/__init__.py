"""The hub: one admin that many care homes share, and the music boxes that follow it.

homes (care homes and the staff who belong to them), boxes (pairing, credentials, commands,
last seen), revisions (what changed, as numbers a box can compare), state (what a box is
sent), receipts (what a box sends back, each item taken once).
"""
