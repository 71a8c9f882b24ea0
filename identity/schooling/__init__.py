"""The school structure shared by the canteen and school pre-enrolment: school years, the
territory's school calendar (zone holidays, public holidays, closures), levels, classes and a
child's enrolment. It lives on the identity floor, with the territory, because two services that
never import each other both need it; its models are registered in the identity app."""
