"""Timers, reminders and the alarm scheduler (issue 18).

- :mod:`clock`: wall clock + boot clock (``CLOCK_BOOTTIME``: monotonic, counts suspend) behind one
  interface, so tests drive time with a fake clock.
- :mod:`state`: small JSON state files written atomically under a file lock.
- :mod:`store`: timers ("beş dakikalık zamanlayıcı"), named, several at once, surviving restarts.
- :mod:`reminders`: reminders stored as iCalendar ``VALARM`` s in the configured calendar; alarms
  found in any event (other clients' too) are read the same way.
- :mod:`scheduler`: fires what is due (spoken, with an earcon; desktop notification), records
  it, announces missed ones once, rings until "tamam"/"sustur".
- :mod:`tools`: the brain's timer/reminder tools and their Turkish replies.
"""
