"""GraphQL delivery (graphene-django) with the same decisions as server-side rendering.

Compose into a site's schema::

    import graphene
    import personalize.graphql

    class Query(personalize.graphql.Query, graphene.ObjectType):
        pass

    class Mutation(personalize.graphql.Mutation, graphene.ObjectType):
        pass

    schema = graphene.Schema(query=Query, mutation=Mutation, types=personalize.graphql.TYPES)

and serve it with :class:`personalize.graphql.views.PersonalizeGraphQLView`.
"""

from personalize.graphql.mutations import Mutation
from personalize.graphql.query import PageType, Query, VisitorInput, segment_key
from personalize.graphql.types import (
    BlockType,
    GatedBlockType,
    PersonalizedBlockType,
    StreamFieldBlock,
    VisitorProfileType,
    VisitorType,
)

#: The concrete block types, reachable only through the StreamFieldBlock interface: pass them to
#: ``graphene.Schema(types=...)``.
TYPES = [BlockType, PersonalizedBlockType, GatedBlockType]

__all__ = [
    "TYPES",
    "BlockType",
    "GatedBlockType",
    "Mutation",
    "PageType",
    "PersonalizedBlockType",
    "Query",
    "StreamFieldBlock",
    "VisitorInput",
    "VisitorProfileType",
    "VisitorType",
    "segment_key",
]
