"""The API's JSON parser: DRF's, where JSON nested too deeply to parse is a 400 like any other bad JSON.

(A NUL or an unpaired surrogate in a string is each field's to refuse, naming it: DRF's CharField
does; fields that take any JSON check apps.core.text.json_storable.)
"""

from __future__ import annotations

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:  # not a ValueError: DRF's parser lets it through as a 500
            raise ParseError("JSON parse error - the JSON is nested too deeply.") from None
