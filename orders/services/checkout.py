"""Placing an order: one transaction, stock reserved by conditional UPDATE; expiry."""
