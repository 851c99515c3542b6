using System.Diagnostics;
using Mlflow.Client.Rest;

namespace Mlflow.Client;

/// <summary>
/// What a webhook listens to: an entity and what happened to it, written <c>entity.action</c> as MLflow writes it
/// (<c>model_version.created</c>). Only the combinations MLflow accepts can be built (<see cref="IsValid"/>); the
/// named ones (<see cref="ModelVersionCreated"/>…) are all of them.
/// </summary>
[DebuggerDisplay("{ToString(),nq}")]
public sealed record WebhookEvent
{
    // MLflow 3.11.1's valid actions per entity (mlflow/entities/webhook.py), in its order.
    private static readonly Dictionary<WebhookEntity, WebhookAction[]> Rules = new()
    {
        [WebhookEntity.RegisteredModel] = [WebhookAction.Created],
        [WebhookEntity.ModelVersion] = [WebhookAction.Created],
        [WebhookEntity.ModelVersionTag] = [WebhookAction.Set, WebhookAction.Deleted],
        [WebhookEntity.ModelVersionAlias] = [WebhookAction.Created, WebhookAction.Deleted],
        [WebhookEntity.Prompt] = [WebhookAction.Created],
        [WebhookEntity.PromptVersion] = [WebhookAction.Created],
        [WebhookEntity.PromptTag] = [WebhookAction.Set, WebhookAction.Deleted],
        [WebhookEntity.PromptVersionTag] = [WebhookAction.Set, WebhookAction.Deleted],
        [WebhookEntity.PromptAlias] = [WebhookAction.Created, WebhookAction.Deleted],
        [WebhookEntity.BudgetPolicy] = [WebhookAction.Exceeded],
    };

    /// <summary>Creates an event, refusing a combination MLflow does not accept.</summary>
    /// <param name="entity">The entity, for example <see cref="WebhookEntity.ModelVersion"/>.</param>
    /// <param name="action">What happened to it, for example <see cref="WebhookAction.Created"/>.</param>
    /// <exception cref="MlflowValidationException">MLflow does not accept this action for this entity; the message names the ones it does.</exception>
    public WebhookEvent(WebhookEntity entity, WebhookAction action)
    {
        if (!IsValid(entity, action))
        {
            var text = WebhookNames.Entity(entity) + "." + WebhookNames.Action(action);
            var valid = ValidActions(entity);
            var rule = valid.Count == 0
                ? $"'{WebhookNames.Entity(entity)}' is not an entity a webhook can listen to"
                : $"MLflow accepts the entity '{WebhookNames.Entity(entity)}' only with the action{(valid.Count == 1 ? "" : "s")} {string.Join(", ", valid.Select(a => "'" + WebhookNames.Action(a) + "'"))}";
            throw new MlflowValidationException(text, rule, "webhook event");
        }

        Entity = entity;
        Action = action;
    }

    /// <summary>An event as a server sent it, kept as it is even if this SDK does not know the combination (a newer server).</summary>
    private WebhookEvent(WebhookEntity entity, WebhookAction action, bool _)
    {
        Entity = entity;
        Action = action;
    }

    /// <summary>The entity.</summary>
    public WebhookEntity Entity { get; }

    /// <summary>What happened to it.</summary>
    public WebhookAction Action { get; }

    /// <summary>A registered model was created.</summary>
    public static WebhookEvent RegisteredModelCreated { get; } = new(WebhookEntity.RegisteredModel, WebhookAction.Created);
    /// <summary>A model version was created.</summary>
    public static WebhookEvent ModelVersionCreated { get; } = new(WebhookEntity.ModelVersion, WebhookAction.Created);
    /// <summary>A model version tag was set.</summary>
    public static WebhookEvent ModelVersionTagSet { get; } = new(WebhookEntity.ModelVersionTag, WebhookAction.Set);
    /// <summary>A model version tag was deleted.</summary>
    public static WebhookEvent ModelVersionTagDeleted { get; } = new(WebhookEntity.ModelVersionTag, WebhookAction.Deleted);
    /// <summary>A model version alias was created (set).</summary>
    public static WebhookEvent ModelVersionAliasCreated { get; } = new(WebhookEntity.ModelVersionAlias, WebhookAction.Created);
    /// <summary>A model version alias was deleted.</summary>
    public static WebhookEvent ModelVersionAliasDeleted { get; } = new(WebhookEntity.ModelVersionAlias, WebhookAction.Deleted);
    /// <summary>A prompt was created.</summary>
    public static WebhookEvent PromptCreated { get; } = new(WebhookEntity.Prompt, WebhookAction.Created);
    /// <summary>A prompt version was created.</summary>
    public static WebhookEvent PromptVersionCreated { get; } = new(WebhookEntity.PromptVersion, WebhookAction.Created);
    /// <summary>A prompt tag was set.</summary>
    public static WebhookEvent PromptTagSet { get; } = new(WebhookEntity.PromptTag, WebhookAction.Set);
    /// <summary>A prompt tag was deleted.</summary>
    public static WebhookEvent PromptTagDeleted { get; } = new(WebhookEntity.PromptTag, WebhookAction.Deleted);
    /// <summary>A prompt version tag was set.</summary>
    public static WebhookEvent PromptVersionTagSet { get; } = new(WebhookEntity.PromptVersionTag, WebhookAction.Set);
    /// <summary>A prompt version tag was deleted.</summary>
    public static WebhookEvent PromptVersionTagDeleted { get; } = new(WebhookEntity.PromptVersionTag, WebhookAction.Deleted);
    /// <summary>A prompt alias was created (set).</summary>
    public static WebhookEvent PromptAliasCreated { get; } = new(WebhookEntity.PromptAlias, WebhookAction.Created);
    /// <summary>A prompt alias was deleted.</summary>
    public static WebhookEvent PromptAliasDeleted { get; } = new(WebhookEntity.PromptAlias, WebhookAction.Deleted);
    /// <summary>An AI gateway budget policy was exceeded.</summary>
    public static WebhookEvent BudgetPolicyExceeded { get; } = new(WebhookEntity.BudgetPolicy, WebhookAction.Exceeded);

    /// <summary>Every event MLflow accepts, entity by entity.</summary>
    public static IReadOnlyList<WebhookEvent> All { get; } = Rules.SelectMany(r => r.Value.Select(a => new WebhookEvent(r.Key, a))).ToArray();

    /// <summary>Whether MLflow accepts this action for this entity.</summary>
    /// <param name="entity">The entity.</param>
    /// <param name="action">The action.</param>
    /// <returns><see langword="true"/> for a combination MLflow accepts.</returns>
    public static bool IsValid(WebhookEntity entity, WebhookAction action)
        => Rules.TryGetValue(entity, out var actions) && actions.Contains(action);

    /// <summary>The actions MLflow accepts for an entity (none for <see cref="WebhookEntity.Unspecified"/>).</summary>
    /// <param name="entity">The entity.</param>
    /// <returns>The actions, possibly empty.</returns>
    public static IReadOnlyList<WebhookAction> ValidActions(WebhookEntity entity)
        => Rules.TryGetValue(entity, out var actions) ? actions : [];

    /// <summary>Reads <c>entity.action</c> as MLflow writes it, for example <c>model_version_tag.set</c>.</summary>
    /// <param name="text">The event text.</param>
    /// <returns>The event.</returns>
    /// <exception cref="MlflowValidationException">The text is not <c>entity.action</c>, names an unknown entity or action, or a combination MLflow does not accept.</exception>
    public static WebhookEvent Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split('.');
        if (parts.Length != 2)
        {
            throw new MlflowValidationException(text, "expected 'entity.action', for example 'model_version.created'", "webhook event");
        }

        if (!WebhookNames.TryParseEntity(parts[0], out var entity))
        {
            throw new MlflowValidationException(text, $"unknown entity '{parts[0]}'; known: {string.Join(", ", Rules.Keys.Select(WebhookNames.Entity))}", "webhook event");
        }

        if (!WebhookNames.TryParseAction(parts[1], out var action))
        {
            throw new MlflowValidationException(text, $"unknown action '{parts[1]}'; known: created, updated, deleted, set, exceeded", "webhook event");
        }

        return new WebhookEvent(entity, action);
    }

    /// <summary>An event read from a server: not checked, so that a combination added by a newer MLflow still reads.</summary>
    internal static WebhookEvent FromServer(WebhookEntity entity, WebhookAction action) => new(entity, action, false);

    /// <summary>The event as MLflow writes it: <c>model_version.created</c>.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => WebhookNames.Entity(Entity) + "." + WebhookNames.Action(Action);
}
