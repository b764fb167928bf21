"""The demo's plant history: weeks of readings, shifts, entries and lab results behind it.

Generated once, on the first ``clearwell demo``, from the simulator's plant model (the same
physics the live simulator serves, run faster than real time, deterministic from a seed),
so that the monthly report, the chief's month and the trends have something real to show.

- ``plant.py``: the model stepped through the period, as the collectors would have stored it
  (readings after deadband, limit events), with the values on the operators' rounds;
- ``rota.py``: who worked which shift, who left early (pure);
- ``records.py``: what each shift wrote: entries of every kind, samples and results (pure);
- ``write.py``: all of it into the database through the packages' write layers, once.
"""
