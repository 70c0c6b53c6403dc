"""The kit's own error: something its user must fix (a broken course folder, an unknown name). The
message says what and where; library code raises it and only the command line turns it into an
exit status."""


class KitError(Exception):
    pass
