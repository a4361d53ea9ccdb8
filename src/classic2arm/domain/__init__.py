"""Pure domain: typed classic and ARM models, ids, rules, translation. No I/O here."""
