"""Every write of the procedures engine, one module per use case: drafts (start, save a step,
submit), handling (transitions, assignment, comments, messages, bulk), the counter (assisted
mode) and the sweep of forgotten drafts. Callers import from the use-case module."""
