// The features' names for people (Settings → Features and Settings → Audit), by flag.

export const FEATURE_TITLES = {
  tool_loop: "Tools in answers", mcp: "Tools from MCP servers", auto_model: "Auto model",
  image_generation: "Image generation", comparison: "Compare models",
  resumable_streams: "Answers that survive a dropped connection",
};
