namespace Mlflow.Client;

/// <summary>Builds an <see cref="IMlflowTokenProvider"/> from a delegate.</summary>
public static class MlflowTokenProvider
{
    /// <summary>A provider that calls <paramref name="getToken"/> (see <see cref="IMlflowTokenProvider.GetTokenAsync"/> for the contract).</summary>
    /// <param name="getToken">Receives <c>forceRefresh</c> and the cancellation token; returns the token.</param>
    /// <returns>The provider.</returns>
    public static IMlflowTokenProvider Create(Func<bool, CancellationToken, ValueTask<string>> getToken)
    {
        ArgumentNullException.ThrowIfNull(getToken);
        return new DelegateTokenProvider(getToken);
    }

    private sealed class DelegateTokenProvider(Func<bool, CancellationToken, ValueTask<string>> getToken) : IMlflowTokenProvider
    {
        public ValueTask<string> GetTokenAsync(bool forceRefresh, CancellationToken cancellationToken) => getToken(forceRefresh, cancellationToken);

        public override string ToString() => "MlflowTokenProvider (delegate)";
    }
}
