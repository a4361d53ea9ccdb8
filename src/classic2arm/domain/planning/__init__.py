"""Planning a whole subscription's migration (`classic2arm plan`): pure model, wave ordering, quota sums and the
duration model. The service (`service/plan.py`) gathers the facts from the store; everything decided is here."""
