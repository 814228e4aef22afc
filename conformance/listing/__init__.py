"""The filter machinery of a list API: a table of filters, and how a listing is judged sound, complete, monotone."""
