namespace Mlflow.Client.Rest;

/// <summary>
/// The names of the webhook enums: lower snake case in event texts (<c>model_version.created</c>, as MLflow's Python
/// writes them), upper snake case on the wire (<c>MODEL_VERSION</c>, <c>CREATED</c>, <c>ACTIVE</c>: protobuf JSON).
/// </summary>
internal static class WebhookNames
{
    private static readonly (WebhookEntity Value, string Name)[] Entities =
    [
        (WebhookEntity.RegisteredModel, "registered_model"),
        (WebhookEntity.ModelVersion, "model_version"),
        (WebhookEntity.ModelVersionTag, "model_version_tag"),
        (WebhookEntity.ModelVersionAlias, "model_version_alias"),
        (WebhookEntity.Prompt, "prompt"),
        (WebhookEntity.PromptVersion, "prompt_version"),
        (WebhookEntity.PromptTag, "prompt_tag"),
        (WebhookEntity.PromptVersionTag, "prompt_version_tag"),
        (WebhookEntity.PromptAlias, "prompt_alias"),
        (WebhookEntity.BudgetPolicy, "budget_policy"),
    ];

    private static readonly (WebhookAction Value, string Name)[] Actions =
    [
        (WebhookAction.Created, "created"),
        (WebhookAction.Updated, "updated"),
        (WebhookAction.Deleted, "deleted"),
        (WebhookAction.Set, "set"),
        (WebhookAction.Exceeded, "exceeded"),
    ];

    /// <summary>The entity's lower-case name; <c>entity_unspecified</c> (the proto's name) for anything else.</summary>
    public static string Entity(WebhookEntity value)
        => Array.Find(Entities, e => e.Value == value).Name ?? "entity_unspecified";

    /// <summary>The action's lower-case name; <c>action_unspecified</c> (the proto's name) for anything else.</summary>
    public static string Action(WebhookAction value)
        => Array.Find(Actions, a => a.Value == value).Name ?? "action_unspecified";

    public static bool TryParseEntity(string? name, out WebhookEntity value)
    {
        var found = Array.Find(Entities, e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase));
        value = found.Name is null ? WebhookEntity.Unspecified : found.Value;
        return found.Name is not null;
    }

    public static bool TryParseAction(string? name, out WebhookAction value)
    {
        var found = Array.Find(Actions, a => string.Equals(a.Name, name, StringComparison.OrdinalIgnoreCase));
        value = found.Name is null ? WebhookAction.Unspecified : found.Value;
        return found.Name is not null;
    }

    /// <summary>The status as the wire writes it.</summary>
    public static string? Status(WebhookStatus? value) => value switch
    {
        null => null,
        WebhookStatus.Active => "ACTIVE",
        WebhookStatus.Disabled => "DISABLED",
        _ => throw new ArgumentOutOfRangeException(nameof(value), value, "A webhook's status is Active or Disabled."),
    };

    /// <summary>A status read from the wire; an unknown one reads as <see cref="WebhookStatus.Unspecified"/>.</summary>
    public static WebhookStatus ParseStatus(string? name) => name?.ToUpperInvariant() switch
    {
        "ACTIVE" => WebhookStatus.Active,
        "DISABLED" => WebhookStatus.Disabled,
        _ => WebhookStatus.Unspecified,
    };
}
