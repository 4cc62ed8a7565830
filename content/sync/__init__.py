"""The box's side of hub mode: joining a hub, and the sync agent that keeps the box's
library a copy of what the hub says its residents should hear, and sends back what happened.

config (the box's credential file), client (HTTP to the hub), outbox (what waits to be
sent), apply (a state in one transaction), files (media by hash), agent (the service's loops).
"""
