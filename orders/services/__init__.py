"""Order services, split by sub-domain: cart.py (the cart and its merge), checkout.py (placing
orders, stock reservation and release, expiry), fulfilment.py (payment, shipping, delivery,
completion of shop orders)."""
