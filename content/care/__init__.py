"""The care loop: what staff and families see the music do, and what Evergreen learns from it.

- `reactions`: one-tap reactions against a song, their tallies on each song, the suggestion
  to stop a song that upset twice;
- `detective`: each song's trying / keeper / dropped status and the review lists;
- `modes`: times of day (calm, steady beat, usual) and the before-a-care-task action;
- `report`: the care-plan report's figures, `charts` its plots, `document` its page and PDF,
  `table` its CSV;
- `seed`: a month of made-up history, so a new box can show a report.
"""
