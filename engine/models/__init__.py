"""The model manager: what can be installed (``registry``), fetching it (``download``,
``archive``), putting it in place (``install``), what is installed and where (``store``,
``folder``)."""
