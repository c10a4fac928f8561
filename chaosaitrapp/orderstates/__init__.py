"""The order-state family: the broker says something other than "filled" of an order, and the trader must follow."""
