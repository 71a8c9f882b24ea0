"""A dish names its allergens from the 14 of EU regulation 1169/2011, nothing else."""

import pytest
from django.core.exceptions import ValidationError

from services.canteen.models import Allergen, validate_allergens


def test_the_fourteen_regulated_allergens():
    assert len(Allergen.values) == 14


def test_a_dish_names_known_allergens_only():
    validate_allergens("gluten,milk,eggs")
    validate_allergens("")
    with pytest.raises(ValidationError) as refusal:
        validate_allergens("gluten,chocolate")
    assert "chocolate" in str(refusal.value)
