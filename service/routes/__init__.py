"""Route handlers, one module per area: ``auth``, ``me``, ``admin``, ``well_known``, ``health``."""
