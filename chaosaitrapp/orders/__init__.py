"""Orders: bursts that exercise the throttle queue, and duplicate ``client_order_id`` checks."""
