namespace Mlflow.Client.Rest;

// Wire shapes of the model registry endpoints.
