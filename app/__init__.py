"""Tally: a ledger of the numbers in the news, and the conflicts among them."""
