"""The command groups. Each module adds its commands to the parser (``register``) and sets the
function that runs each one (``handler``); none imports another group or ``main``."""
