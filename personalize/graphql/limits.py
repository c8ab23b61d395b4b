"""Query limits as GraphQL validation rules: depth, aliases, field selections and cost.

The rules measure each operation once, with every fragment spread expanded, before anything is
resolved. They never recurse: a selection set is walked with an explicit stack and fragments are
measured once each, in dependency order, so fragment cycles (reported by graphql-core's
``NoFragmentCyclesRule``) and deep nesting cannot exhaust the interpreter's stack.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    get_named_type,
    get_nullable_type,
    is_composite_type,
)
from graphql.language import SKIP, VisitorAction
from graphql.validation import ASTValidationRule, ValidationContext

#: Cost of the package's resolver-heavy fields, keyed ``"Type.field"``; ``Query`` and
#: ``Mutation`` stand for the schema's root types, whatever their names.
DEFAULT_FIELD_COSTS: dict[str, int] = {
    "Query.page": 10,
    "Query.cacheKey": 10,
    "Page.streamfield": 10,
    "Page.fields": 10,
    "Visitor.explanation": 5,
    "Mutation.setConsent": 10,
    "Mutation.trackEvent": 10,
    "Mutation.setPreference": 10,
    "Query.__schema": 50,
}
#: Any other field of a root type: each starts its own lookups.
ROOT_FIELD_COST = 5
#: Any other field returning a list of objects (a connection, a list of blocks).
LIST_FIELD_COST = 3
#: Every other field; ``__typename`` costs nothing.
FIELD_COST = 1


@dataclass(frozen=True)
class QueryLimits:
    """The limits one set of rules enforces (hashable, so rules and checked queries cache)."""

    max_depth: int
    max_aliases: int
    max_fields: int
    max_cost: int
    #: ``("Type.field", cost)`` pairs over :data:`DEFAULT_FIELD_COSTS`.
    field_costs: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class Measure:
    """What an operation or fragment selects, with every fragment spread expanded."""

    #: The deepest field's nesting level; 0 when only top-level fields are selected.
    depth: int = 0
    fields: int = 0
    aliases: int = 0
    cost: int = 0


class _Walker:
    """Measures selection sets of one document against one schema."""

    def __init__(self, schema: GraphQLSchema, costs: Mapping[str, int]) -> None:
        self.schema = schema
        self.costs = costs
        self.roots = {
            root: name
            for root, name in ((schema.query_type, "Query"), (schema.mutation_type, "Mutation"))
            if root is not None
        }
        self.fragments: dict[str, Measure] = {}

    def field_cost(self, parent: Any, field: FieldNode) -> tuple[int, Any]:
        """The field's cost and its definition (None when the schema has no such field)."""
        name = field.name.value
        if name == "__typename":
            return 0, None
        root = self.roots.get(parent)
        key = f"{root or getattr(parent, 'name', '')}.{name}"
        fields = (
            parent.fields if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType) else {}
        )
        definition = fields.get(name)
        if key in self.costs:
            return self.costs[key], definition
        if root is not None:
            return ROOT_FIELD_COST, definition
        if definition is not None:
            returned = get_nullable_type(definition.type)
            if isinstance(returned, GraphQLList) and is_composite_type(get_named_type(returned)):
                return LIST_FIELD_COST, definition
        return FIELD_COST, definition

    def measure(self, selection_set: SelectionSetNode, parent: Any) -> Measure:
        """Measure a selection set whose fields belong to ``parent`` (a schema type or None).

        Spreads of fragments not measured yet (unknown, or closing a cycle) count nothing.
        """
        depth = fields = aliases = cost = 0
        stack: list[tuple[SelectionSetNode, Any, int]] = [(selection_set, parent, 0)]
        while stack:
            current, parent_type, level = stack.pop()
            for selection in current.selections:
                if isinstance(selection, FieldNode):
                    weight, definition = self.field_cost(parent_type, selection)
                    depth = max(depth, level)
                    fields += 1
                    aliases += selection.alias is not None
                    cost += weight
                    if selection.selection_set and not selection.name.value.startswith("__"):
                        child = get_named_type(definition.type) if definition else None
                        stack.append((selection.selection_set, child, level + 1))
                elif isinstance(selection, InlineFragmentNode):
                    condition = selection.type_condition
                    child = self.schema.get_type(condition.name.value) if condition else parent_type
                    stack.append((selection.selection_set, child, level))
                elif isinstance(selection, FragmentSpreadNode):
                    spread = self.fragments.get(selection.name.value)
                    if spread is not None:
                        depth = max(depth, level + spread.depth)
                        fields += spread.fields
                        aliases += spread.aliases
                        cost += spread.cost
        return Measure(depth=depth, fields=fields, aliases=aliases, cost=cost)

    def measure_fragments(self, fragments: Mapping[str, FragmentDefinitionNode]) -> None:
        """Measure every fragment after the fragments it spreads (a cycle's spread counts 0)."""
        for root in fragments:
            if root in self.fragments:
                continue
            path = [(root, _spreads(fragments[root].selection_set))]
            on_path = {root}
            while path:
                name, spreads = path[-1]
                for spread in spreads:
                    if (
                        spread in fragments
                        and spread not in self.fragments
                        and spread not in on_path
                    ):
                        path.append((spread, _spreads(fragments[spread].selection_set)))
                        on_path.add(spread)
                        break
                else:
                    path.pop()
                    on_path.discard(name)
                    node = fragments[name]
                    parent = self.schema.get_type(node.type_condition.name.value)
                    self.fragments[name] = self.measure(node.selection_set, parent)


def _spreads(selection_set: SelectionSetNode) -> Iterator[str]:
    """The names of the fragments spread anywhere in a selection set (lazily, no recursion)."""
    stack = [selection_set]
    while stack:
        for selection in stack.pop().selections:
            if isinstance(selection, FragmentSpreadNode):
                yield selection.name.value
            elif isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set:
                stack.append(selection.selection_set)


def measure_document(
    schema: GraphQLSchema, document: DocumentNode, costs: Mapping[str, int] | None = None
) -> dict[OperationDefinitionNode, Measure]:
    """Every operation of a document, measured with its fragments expanded.

    Args:
        schema: the schema the document is for (field types and root types).
        document: a parsed document; it need not be valid.
        costs: ``"Type.field"`` costs; :data:`DEFAULT_FIELD_COSTS` when None.

    Returns:
        Each operation definition's :class:`Measure`.
    """
    walker = _Walker(schema, DEFAULT_FIELD_COSTS if costs is None else costs)
    definitions = document.definitions
    walker.measure_fragments(
        {d.name.value: d for d in definitions if isinstance(d, FragmentDefinitionNode)}
    )
    roots = {"query": schema.query_type, "mutation": schema.mutation_type}
    return {
        d: walker.measure(d.selection_set, roots.get(d.operation.value))
        for d in definitions
        if isinstance(d, OperationDefinitionNode)
    }


def refusal(measure: Measure, limits: QueryLimits) -> str | None:
    """Why a measured operation is refused, naming the limit only; None within the limits."""
    if measure.depth > limits.max_depth:
        return f"Query too deep: it exceeds maximum operation depth of {limits.max_depth}."
    if measure.aliases > limits.max_aliases:
        return f"Query too costly: it exceeds the limit of {limits.max_aliases} aliases."
    if measure.fields > limits.max_fields:
        return f"Query too costly: it exceeds the limit of {limits.max_fields} field selections."
    if measure.cost > limits.max_cost:
        return f"Query too costly: it exceeds the maximum cost of {limits.max_cost}."
    return None


def query_limits_rule(limits: QueryLimits) -> type[ASTValidationRule]:
    """A validation rule refusing operations beyond ``limits``.

    Args:
        limits: the depth, alias, field and cost limits, and the field costs.

    Returns:
        An ``ASTValidationRule`` subclass for ``graphql.validate``.
    """
    costs = {**DEFAULT_FIELD_COSTS, **dict(limits.field_costs)}

    class QueryLimitsRule(ASTValidationRule):
        """Refuses operations deeper or costlier than the configured limits."""

        context: ValidationContext

        def enter_document(self, node: DocumentNode, *args: Any) -> VisitorAction:
            for operation, measure in measure_document(self.context.schema, node, costs).items():
                message = refusal(measure, limits)
                if message is not None:
                    self.report_error(GraphQLError(message, operation))
            return SKIP

    return QueryLimitsRule


#: The answer to arguments holding NUL characters.
NUL_MESSAGE = "Arguments must not contain NUL characters."


class NoNulCharactersRule(ASTValidationRule):
    """Refuses string arguments holding NUL characters, which no database column accepts."""

    def enter_string_value(self, node: StringValueNode, *args: Any) -> None:
        if "\x00" in node.value:
            self.report_error(GraphQLError(NUL_MESSAGE, node))


def holds_nul(value: Any) -> bool:
    """Whether a decoded JSON value holds a NUL character in any string or key (no recursion)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False
