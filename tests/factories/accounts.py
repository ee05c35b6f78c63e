import factory
from django.contrib.auth.models import Group

from accounts.models import User


class UserFactory(factory.django.DjangoModelFactory):
    """A member of staff; pass ``roles=["sales"]`` to put them in role groups."""

    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    last_name = factory.Faker("last_name", locale="ja_JP")
    first_name = factory.Faker("first_name", locale="ja_JP")
    email = factory.Faker("company_email", locale="ja_JP")
    department = "営業部"
    password = factory.django.Password("pass-for-tests-1")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.set(Group.objects.filter(name__in=extracted))
