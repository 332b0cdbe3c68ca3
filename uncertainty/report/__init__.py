"""Reports: summaries in, Markdown/HTML pages, JSON and figures out.

- :mod:`.blocks` (the document model: sections of text, tables, images), rendered by
  :func:`.blocks.to_markdown` and :func:`.html.to_html`;
- :mod:`.sections`: what an interval report says, section by section;
- :mod:`.figures`, :mod:`.plots`, :mod:`.update_plots`: matplotlib figures (data in, Figure out);
- :mod:`.writer`: the one place that writes an interval report (:func:`run_report`);
- :mod:`.compare`, :mod:`.update_report`: the comparison and update reports.
"""
