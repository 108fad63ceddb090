"""The palette: labels inside coloured marks stay readable."""
import pytest

from loyalty.palette import text_colour


@pytest.mark.parametrize("fill, expected", [
    ("#000000", "#FFFFFF"),   # black: white text
    ("#FFFFFF", "#1A1A1A"),   # white: dark text
    ("#0072B2", "#FFFFFF"),   # Champions blue, luminance 0.152: contrast 5.2 with white against 3.4 with #1A1A1A
    ("#E69F00", "#1A1A1A"),   # orange, luminance 0.416: 2.3 with white against 7.7 with #1A1A1A
    ("#009E73", "#1A1A1A"),   # green, luminance 0.258: 3.4 with white against 5.1 with #1A1A1A
    ("#F0E442", "#1A1A1A"),   # yellow
    ("#BBBBBB", "#1A1A1A"),   # light grey
])
def test_label_colour_contrasts_with_its_fill(fill, expected):
    assert text_colour(fill) == expected

