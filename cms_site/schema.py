"""The demo site's GraphQL schema: personalize's query and mutations, composed as any site would."""

import graphene

import personalize.graphql


class Query(personalize.graphql.Query, graphene.ObjectType):
    """The root query."""


class Mutation(personalize.graphql.Mutation, graphene.ObjectType):
    """The root mutation."""


schema = graphene.Schema(query=Query, mutation=Mutation, types=personalize.graphql.TYPES)
