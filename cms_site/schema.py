"""The demo site's GraphQL schema: personalize's query, composed as any site would."""

import graphene

import personalize.graphql


class Query(personalize.graphql.Query, graphene.ObjectType):
    """The root query."""


schema = graphene.Schema(query=Query, types=personalize.graphql.TYPES)
