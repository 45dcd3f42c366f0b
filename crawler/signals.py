"""The crawl's own Scrapy signals, between the spider and the staging pipeline."""

# Stage and load what is buffered now (the spider reads the warehouse next).
flush_requested = object()
# Items decided without a response (a link that cannot be followed, a base model already stored):
# handler(items=[...]).
items_decided = object()
