"""After a run: the summary, the retry file, the results CSV and the HTML page."""
