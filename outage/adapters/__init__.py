"""Adapters to the outside world (devices, protocols): the decision core never imports them."""
