"""Problems built from what a scientist brings: a data file and model (``table``), a dress
rehearsal of it (``simulate``), a program to run (``simulation``, ``objective``) and a
measured signal with its instrument response (``blurred_measurement``)."""
