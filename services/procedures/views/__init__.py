"""The engine's pages: the residents' (catalogue, form steps, summary, file) in `resident`,
the staff's (queue, file, export, counter) in `staff`."""
