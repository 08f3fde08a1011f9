"""Page-shaped queries: each composes the entity modules of ``db`` into what one page shows."""
