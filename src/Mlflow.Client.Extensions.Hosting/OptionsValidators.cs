using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Mlflow.Client.Extensions.Hosting;

/// <summary>
/// Checks the tracker's options as the tracker will see them (the <c>MLFLOW_*</c> environment merged in), with the
/// library's own rules, when the host starts; each failure names the setting by its configuration path.
/// </summary>
internal sealed class TrackerOptionsValidator(string path) : IValidateOptions<MlflowTrackerOptions>
{
    public ValidateOptionsResult Validate(string? name, MlflowTrackerOptions options)
    {
        var failures = new List<string>();
        OptionChecks.Check(failures, path, "Batching", () => options.Batching.Validate());
        OptionChecks.Check(failures, path, "Offline", () => options.Offline.Validate());
        if (options.ExperimentId is not null)
        {
            OptionChecks.Check(failures, path, nameof(options.ExperimentId), () => MlflowValidation.ValidateExperimentId(options.ExperimentId), named: true);
        }

        if (options.ExperimentName is not null)
        {
            OptionChecks.Check(failures, path, nameof(options.ExperimentName), () => MlflowValidation.ValidateExperimentName(options.ExperimentName), named: true);
        }

        if (options.Client is null)
        {
            failures.Add(MlflowServiceCollectionExtensions.Join(path, "Client") + ": must not be null.");
        }
        else if (OptionChecks.WithEnvironment(failures, path, options.Client) is { } client)
        {
            OptionChecks.CheckClient(failures, MlflowServiceCollectionExtensions.Join(path, "Client"), client);
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>Checks the REST client's options at start: the library's rules, and an <c>http(s)</c> tracking URI.</summary>
internal sealed class ClientOptionsValidator(string clientPath, string trackingUriPath) : IValidateOptions<MlflowClientOptions>
{
    public ValidateOptionsResult Validate(string? name, MlflowClientOptions options)
    {
        var failures = new List<string>();
        if (OptionChecks.WithEnvironment(failures, clientPath, options) is { } client)
        {
            OptionChecks.CheckClient(failures, clientPath, client);
            try
            {
                MlflowClient.ResolveServerUri(client.TrackingUri);
            }
            catch (ArgumentException ex)
            {
                failures.Add(trackingUriPath + ": " + OptionChecks.Reason(ex));
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

internal static class OptionChecks
{
    /// <summary>The options with the environment merged in as the library does; <see langword="null"/> when a variable holds a bad value (recorded).</summary>
    public static MlflowClientOptions? WithEnvironment(List<string> failures, string path, MlflowClientOptions options)
    {
        try
        {
            return options.WithEnvironmentDefaults(EnvironmentReader.Process);
        }
        catch (ArgumentException ex)
        {
            // The message names the environment variable.
            failures.Add((path.Length == 0 ? "" : path + ": ") + ex.Message);
            return null;
        }
    }

    public static void CheckClient(List<string> failures, string clientPath, MlflowClientOptions client)
    {
        if (client.Retry is null)
        {
            failures.Add(MlflowServiceCollectionExtensions.Join(clientPath, "Retry") + ": must not be null.");
            return;
        }

        // The retry settings first: the client's own check ends with them, and each failure is reported once.
        var retryFailures = failures.Count;
        Check(failures, clientPath, "Retry", client.Retry.Validate);
        if (failures.Count == retryFailures)
        {
            Check(failures, clientPath, "", client.Validate);
        }
    }

    /// <summary>Runs one of the library's checks; a failure is recorded as <c>path:Setting: reason</c>.</summary>
    public static void Check(List<string> failures, string path, string section, Action check, bool named = false)
    {
        try
        {
            check();
        }
        catch (ArgumentException ex)
        {
            var at = MlflowServiceCollectionExtensions.Join(path, section);
            if (!named && !string.IsNullOrEmpty(ex.ParamName))
            {
                at = MlflowServiceCollectionExtensions.Join(at, ex.ParamName);
            }

            failures.Add(at + ": " + Reason(ex));
        }
    }

    /// <summary>The exception's own sentence, without the "(Parameter 'x')" and "Actual value was" lines .NET appends.</summary>
    public static string Reason(ArgumentException ex)
    {
        var message = ex.Message.Split('\n')[0].TrimEnd('\r');
        var suffix = ex.ParamName is null ? null : $" (Parameter '{ex.ParamName}')";
        return suffix is not null && message.EndsWith(suffix, StringComparison.Ordinal) ? message[..^suffix.Length] : message;
    }
}
